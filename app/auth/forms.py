from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    login = StringField("E-mail or username", validators=[DataRequired(message="Enter your e-mail or username.")])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password.")])
    remember = BooleanField("Keep me signed in")


class SignUpForm(FlaskForm):
    business_name = StringField("Business name", validators=[DataRequired(message="The business name field is required."), Length(max=120)])
    first_name = StringField("First name", validators=[DataRequired(message="The first name field is required."), Length(max=120)])
    last_name = StringField("Last name", validators=[Length(max=120)])
    email = EmailField("Work e-mail", validators=[DataRequired(message="Enter your e-mail address.")])
    password = PasswordField("Password", validators=[DataRequired(message="The password field is required.")])


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(message="Enter your e-mail address.")])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(message="Choose a new password.")])
    confirm = PasswordField("Repeat it", validators=[EqualTo("password", message="The passwords do not match.")])
