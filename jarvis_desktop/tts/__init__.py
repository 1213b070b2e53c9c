"""Spoken replies: text for the ear, speech synthesis, sentence streaming and audio output (no Qt)."""
