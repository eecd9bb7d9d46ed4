"""Process owners: process models and versions, the BPMN/DMN editor, form editor, validation, publishing, export and import."""
