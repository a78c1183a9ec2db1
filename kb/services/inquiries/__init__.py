"""Customer inquiries from every channel: intake, the agents' inbox and replies, linked answers, response times, surveys."""
