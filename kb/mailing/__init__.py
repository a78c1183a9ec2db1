"""Mail the app writes to people: links built from the app's URLs, text in the reader's language, queued in the transaction of the change it tells about."""
