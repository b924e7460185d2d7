"""Notebook widgets: login, application browser, run submitter and monitor, run browser, slide viewer."""
