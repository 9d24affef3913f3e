# The bundled data (plans, registries, report template) an officer edits; shipped as package data.
