"""The public help center: articles and categories, their rendering, search and its log."""
