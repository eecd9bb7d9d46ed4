"""The JSON API (`/api/v1`), described by its OpenAPI document.

`routes.bp` is the blueprint; `operations.operation` declares an endpoint and its documentation at
once; `openapi.document()` builds the OpenAPI 3.1 document from those declarations; `tokens` is the
bearer-token service (`models.ApiToken`); `cli.api_cli` is the `flask api` command group.
"""
