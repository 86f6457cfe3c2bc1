from app.core.permissions import register_permissions

register_permissions("Users", {
    "user.view": "See staff users",
    "user.create": "Add staff users",
    "user.update": "Edit staff users' details",
    "user.delete": "Delete staff users",
    # Each way of handing out power has its own permission, and none reaches beyond the
    # actor's own (app.team.escalation).
    "user.assign_role": "Change a user's role (to roles holding nothing you lack)",
    "user.access": "Change a user's location and contact access",
    "user.reset_password": "Send a user a link to reset their password",
    "user.tokens": "Create and revoke other users' API tokens",
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
