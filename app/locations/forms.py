from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional


class LocationForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="The name field is required."), Length(max=120)])
    code = StringField("Code", validators=[Optional(), Length(max=40)], description="Your own short reference, e.g. BL0001.")
    landmark = StringField("Street / landmark", validators=[Optional(), Length(max=200)])
    city = StringField("City", validators=[Optional(), Length(max=100)])
    state = StringField("State / region", validators=[Optional(), Length(max=100)])
    country = StringField("Country", validators=[Optional(), Length(max=100)])
    zip_code = StringField("Postcode", validators=[Optional(), Length(max=20)])
    mobile = StringField("Phone", validators=[Optional(), Length(max=40)])
    email = EmailField("E-mail", validators=[Optional(), Length(max=191)])
    website = StringField("Website", validators=[Optional(), Length(max=191)])
    is_active = BooleanField("Active", default=True)
    # The version the editor loaded; a save against a newer one is refused.
    version = HiddenField()

    def values(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name not in ("csrf_token", "version")}

    def loaded_version(self) -> int | None:
        raw = str(self.version.data or "")
        return int(raw) if raw.isdecimal() else None
