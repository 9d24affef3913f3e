# The bundled sample workspace, shipped as package data (see README.md here).
