"""Typed ORM models, one module per domain; imported here so metadata is complete."""
from kb.models.article import Article, ArticleFeedback, ArticleStatus, Category, IndexOutbox
from kb.models.search_log import SearchLog
from kb.models.shop import Channel, ChannelKind, Setting, SpecialDay
from kb.models.user import Role, User

__all__ = [
    "Article", "ArticleFeedback", "ArticleStatus", "Category", "Channel", "ChannelKind",
    "IndexOutbox", "Role", "SearchLog", "Setting", "SpecialDay", "User",
]
