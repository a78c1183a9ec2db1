"""What test modules share: accounts and log-in, orders, forms and HTML readers, hostile input."""
