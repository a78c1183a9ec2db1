"""Orders from the shop platform, the rules of changing them, guests' access, returns and invoices."""
