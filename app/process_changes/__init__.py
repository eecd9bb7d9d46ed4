"""Between versions: the diff, migration of running instances, and the guideline-rule traceability page."""
