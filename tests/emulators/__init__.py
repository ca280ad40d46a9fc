"""Emulators of outside services that cannot be reached from the test machines (see DESIGN.md)."""
