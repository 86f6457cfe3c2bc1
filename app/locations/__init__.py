"""Business locations: the reference resource every later feature copies.

models.py (table), services.py (rules and writes), forms.py + routes.py (HTML face),
app/api/locations.py (JSON face), tests/locations and tests/api/test_locations.py.
"""
