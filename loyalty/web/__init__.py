"""The HTTP shell of the engine: app factory, dependencies, error rendering."""
