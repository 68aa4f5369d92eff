"""Figures for the merchant admin."""
