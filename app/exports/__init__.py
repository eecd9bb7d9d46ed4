"""Temporary exports (images, forms, lists): readable only by the one who exported, gone after two hours."""
