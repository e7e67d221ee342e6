// The job engine's sources live beside this file.
