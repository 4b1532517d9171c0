"""dancu — the Project 06 national population database platform."""

__version__ = "0.1.0"
