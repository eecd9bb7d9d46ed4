"""The submission page reads the chosen person and unit as database ids within their column's range
(app/ids.py): an id past PostgreSQL's INTEGER is a field error on the form, never a DataError (500)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.cases.models import Case
from app.ids import MAX_ID
from tests.resident.conftest import post, read, sok_vard_form

OUT_OF_RANGE = [str(MAX_ID + 1), "3000000000", str(2**64), "0", "-1"]


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_an_out_of_range_unit_id_is_a_field_error_not_a_server_error(client, world, sign_in, value):
    """On PostgreSQL unit_id=3000000000 was a DataError (500): now the form asks to choose a unit again."""
    sign_in("adult")
    response = post(client, "/resident/new", {**sok_vard_form(world, "adult"), "unit_id": value})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="unit-error"' in page and "Välj en mottagning." in page
    assert read(world.session, select(Case)) == []


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_an_out_of_range_patient_id_is_a_field_error_not_a_server_error(client, world, sign_in, value):
    sign_in("adult")
    response = post(client, "/resident/new", {**sok_vard_form(world, "adult"), "patient_id": value})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Välj vem ärendet gäller." in page
    assert read(world.session, select(Case)) == []


def test_the_largest_id_is_still_read_as_an_id_and_finds_no_unit(client, world, sign_in):
    """MAX_ID itself is in range: it reaches the submission, which finds no such unit (a refusal, not a 500)."""
    sign_in("adult")
    response = post(client, "/resident/new", {**sok_vard_form(world, "adult"), "unit_id": str(MAX_ID)})
    assert response.status_code == 404 and read(world.session, select(Case)) == []
