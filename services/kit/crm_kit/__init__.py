"""Shared service kit: the mechanics every CRM service needs, in one place."""
