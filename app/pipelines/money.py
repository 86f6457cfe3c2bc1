"""Money as people of the business read it: "£1,250.00", or "1.250,00 €" style separators."""
from decimal import ROUND_HALF_UP, Decimal

SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€", "JPY": "¥", "INR": "₹", "AUD": "A$", "CAD": "C$", "NZD": "NZ$",
           "CHF": "CHF ", "ZAR": "R", "NGN": "₦", "KES": "KSh ", "BRL": "R$", "MXN": "MX$", "SEK": "kr ",
           "PLN": "zł ", "AED": "AED "}


def format_money(value, currency: str | None = None, decimal_separator: str = ".", cents: bool = True) -> str:
    """12345.5 GBP -> "£12,345.50" (separator ","  -> "£12.345,50"); cents=False rounds to units."""
    amount = Decimal(value or 0)
    places = Decimal("0.01") if cents else Decimal("1")
    text = f"{amount.quantize(places, rounding=ROUND_HALF_UP):,.{2 if cents else 0}f}"
    if decimal_separator == ",":
        text = text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")
    symbol = SYMBOLS.get((currency or "").upper())
    if symbol is None:
        return f"{text} {currency}" if currency else text
    return f"{symbol}{text}"

