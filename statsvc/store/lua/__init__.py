"""Lua scripts run by the store (package data)."""
