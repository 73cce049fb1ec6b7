"""Alertmanager adapters."""
