"""Process models: deployed, versioned bundles of BPMN, DMN and forms."""
