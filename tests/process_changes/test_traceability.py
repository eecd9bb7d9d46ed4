"""The traceability page: guideline rules, the elements that implement them, the tests that prove them."""

from __future__ import annotations

from app.process_changes import traceability as tracing

RULES = [
    tracing.Rule("OG-6.1", "F", "", "process"),
    tracing.Rule("OG-6.1-f", "F", "", "process"),
    tracing.Rule("HA-chat-staff", "K", "", "ui"),
]


def test_a_test_counts_for_the_longest_rule_id_it_names_in_either_spelling():
    texts = [
        ("tests/a.py::test_OG_6_1_f_closing", "test_OG_6_1_f_closing\n"),
        ("tests/a.py::test_general", "test_general\nProves OG-6.1 as a whole."),
        ("tests/a.py::test_staffing", "test_staffing\nHA-chat-staff: someone holds the duty."),
        ("tests/a.py::test_nothing", "test_nothing\nno ids here, NOG-6.1 is not one"),
    ]
    found = tracing.tests_by_rule(RULES, texts)
    assert found == {
        "OG-6.1": ["tests/a.py::test_general"],
        "OG-6.1-f": ["tests/a.py::test_OG_6_1_f_closing"],
        "HA-chat-staff": ["tests/a.py::test_staffing"],
    }


def test_the_page_shows_each_rule_with_its_elements_and_tests(setup, pages, app, tmp_path):
    tests_dir = tmp_path / "tests"
    tests_dir.mkdir()
    (tests_dir / "test_x.py").write_text(
        'def test_OG_6_1_b_receiving():\n    """Receiving a case."""\n\n\ndef helper_OG_6_1_c():\n    pass\n',
        encoding="utf-8",
    )
    app.config["TRACEABILITY_TESTS_DIR"] = str(tests_dir)
    pages.sign_in("head")
    html = pages.get("/traceability").get_data(as_text=True)
    row = html.split('id="rule-OG-6.1-b"')[1].split("</tr>")[0]
    assert "Enkelt ärende (v1): Ta emot ärendet" in row and "Task_receive" in row
    assert "tests/test_x.py::test_OG_6_1_b_receiving" in row
    other = html.split('id="rule-OG-6.1-c"')[1].split("</tr>")[0]
    assert "Inget test" in other  # a helper function is not a test


def test_without_a_tests_folder_the_page_says_so_and_still_lists_rules_and_elements(
    setup, pages, app, tmp_path
):
    app.config["TRACEABILITY_TESTS_DIR"] = str(tmp_path / "absent")
    pages.sign_in("owner")
    html = pages.get("/traceability").get_data(as_text=True)
    assert "mappen tests/ saknas" in html and 'id="rule-OG-6.1-b"' in html and "Task_receive" in html


def test_the_rules_the_page_lists_are_the_guideline_as_published_to_the_team():
    """The page reads a copy shipped with the product; where the team's source is at hand, they must agree."""
    from pathlib import Path

    import pytest

    from app.process_changes.traceability import RULES_FILE

    source = Path(__file__).resolve().parents[3] / "shared" / "guideline-rules.md"
    if not source.is_file():
        pytest.skip(f"the team's guideline source is not beside this checkout ({source})")
    assert RULES_FILE.read_text(encoding="utf-8") == source.read_text(encoding="utf-8"), (
        "copy ../shared/guideline-rules.md to app/process_changes/guideline_rules.md"
    )


def test_a_rule_reference_anywhere_in_a_diagram_is_traced_to_its_nearest_element_never_a_crash():
    """A guidelineRules property is normally three levels below its task; an editor or a hand-written
    file may put it directly under the process: it is then traced to the process, not a crash."""
    from types import SimpleNamespace

    bpmn = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs">
  <bpmn:process id="p" name="Processen" isExecutable="true">
    <spiffworkflow:property name="guidelineRules" value="OG-5" />
    <bpmn:userTask id="t" name="Ta emot">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="guidelineRules" value="OG-6.1-b" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
  </bpmn:process>
</bpmn:definitions>"""
    bundle = SimpleNamespace(entry_text=bpmn, entry_file="p.bpmn")
    model = SimpleNamespace(process_id="p", name="Processen")
    traced = {(rule, ref.element_id) for rule, ref in tracing._elements_of(bundle, model, 1)}
    assert traced == {("OG-5", "p"), ("OG-6.1-b", "t")}


def test_the_tests_left_unlisted_are_counted_in_the_singular_and_the_plural_and_guideline_text_is_marked_english(
    setup, pages, app, tmp_path
):
    tests_dir = tmp_path / "tests"
    tests_dir.mkdir()
    (tests_dir / "test_x.py").write_text(
        "".join(f"def test_OG_6_1_b_{n}():\n    pass\n\n\n" for n in range(6))
        + "".join(f"def test_OG_6_1_c_{n}():\n    pass\n\n\n" for n in range(7)),
        encoding="utf-8",
    )
    app.config["TRACEABILITY_TESTS_DIR"] = str(tests_dir)
    pages.sign_in("head")

    def rows():
        html = pages.get("/traceability").get_data(as_text=True)
        return [html.split(f'id="rule-OG-6.1-{x}"')[1].split("</tr>")[0] for x in "bc"], html

    (one, two), html = rows()
    assert "och 1 test till" in one and "och 2 tester till" in two
    # The guideline's headings and rules are its own English text (data): marked so, not translated.
    assert '<h2>D. <span lang="en">The Sök vård chat case' in html and 'class="rule-text" lang="en"' in one
    pages.post("/language", {"lang": "en", "next": "/traceability"})
    (one, two), _html = rows()
    assert "and 1 more test<" in one and "and 2 more tests<" in two
