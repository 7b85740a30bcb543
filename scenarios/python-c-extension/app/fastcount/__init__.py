"""Word counting backed by a C extension."""

from ._fastcount import count_words

__all__ = ["count_words"]
