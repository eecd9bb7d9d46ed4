"""A Flask test client signed in as one of a test world's people, the CSRF token at hand."""

from __future__ import annotations

from sqlalchemy.orm import Session

CSRF = "test-token"


class SignedInPages:
    """Subclasses say who a key is (`_who`: user id and unit id) and which session the test holds."""

    def __init__(self, client, session: Session):
        self.client, self._session = client, session

    def _who(self, key: str) -> tuple[int, int]:
        raise NotImplementedError

    def sign_in(self, key: str, *, lang: str | None = None):
        user_id, unit_id = self._who(key)
        with self.client.session_transaction() as browser:
            browser.clear()
            browser["user_id"], browser["unit_id"], browser["csrf_token"] = user_id, unit_id, CSRF
            if lang:
                browser["lang"] = lang
        return self

    def get(self, path: str, **kw):
        self._session.commit()  # SQLite: the test's session must not hold a transaction during a request
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict | None = None, **kw):
        self._session.commit()
        return self.client.post(path, data={"csrf_token": CSRF, **(data or {})}, **kw)
