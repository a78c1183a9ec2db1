"""Mail as data: the queue kept in the database, the transport that delivers it, and the splitting of incoming mail into new text, quote and signature."""
