"""Service-task code called from BPMN. Imports nothing from `app`: what a task may do to the world
comes in through the context object (tasks.context.ServiceContext), implemented by the app."""
