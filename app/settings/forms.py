from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

EXPIRY_CHOICES = [SelectChoice("", "Never"), SelectChoice("30", "In 30 days"), SelectChoice("90", "In 90 days"),
                  SelectChoice("365", "In a year")]


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(message="The name field is required."), Length(max=120)],
                       description="Where the token is used, e.g. \u201cZapier\u201d or \u201cAccounting sync\u201d.")
    abilities = SelectMultipleField("Abilities", choices=[], validate_choice=True,
                                    description="Leave empty for everything your role allows.")
    expires_in = SelectField("Expires", choices=EXPIRY_CHOICES, default="")


class BusinessForm(FlaskForm):
    # Few validators: the service owns the rules and its errors land next to the fields.
    name = StringField("Business name", validators=[Length(max=200)])
    currency = StringField("Currency", description="ISO 4217 code, such as USD, EUR or GBP.")
    timezone = SelectField("Time zone", choices=[], validate_choice=False,
                           description="Dates and times on screens and in the audit log use it.")
    user_quota = StringField("User quota", description="Most staff users this business may have. Blank: unlimited."
                                                       " Adding one more is refused (API answers 422).")
    enforce_subscription = BooleanField(
        "Enforce subscription",
        description="When on and the subscription is not active or trialing, nobody can add or change staff users"
                    " (API answers 402).")
    subscription_status = SelectField("Subscription status", choices=[
        SelectChoice("active", "Active"), SelectChoice("trialing", "Trialing"),
        SelectChoice("past_due", "Past due"), SelectChoice("canceled", "Canceled")], validate_choice=False,
        description="Active and trialing count as subscribed.")
    demo_mode = BooleanField("Demo mode", description="Nobody can add, change or delete staff users or roles"
                                                      " (API answers 403).")
    decimal_separator = SelectField("Number format", choices=[
        SelectChoice(".", "12.5 (decimal point)"), SelectChoice(",", "12,5 (decimal comma)")], validate_choice=False,
        description="How people here type decimals, e.g. a commission percentage.")

    def values(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
