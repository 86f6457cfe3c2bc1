from app.core.permissions import register_permissions

register_permissions("Users", {
    "user.view": "See staff users",
    "user.create": "Add staff users",
    "user.update": "Edit staff users and their API tokens",
    "user.delete": "Delete staff users",
})
register_permissions("Roles", {
    "roles.view": "See roles",
    "roles.create": "Add roles",
    "roles.update": "Edit roles",
    "roles.delete": "Delete roles",
})
register_permissions("Business", {
    "business.settings": "Change business settings",
})

# What a new business's Cashier role may do out of the box.
CASHIER_DEFAULT_PERMISSIONS = ("locations.view",)
