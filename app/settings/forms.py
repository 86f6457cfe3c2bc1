from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
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
