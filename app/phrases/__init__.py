"""Phrase templates (frasmallar) at three levels: regional, local and personal (OG-8.2)."""
