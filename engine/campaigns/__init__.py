"""Campaigns: the ask/tell loop of strategy × evaluator × executor × store, resumable.

A campaign keeps all of its state in the store, so it can be stopped, killed and resumed
without repeating a stored label. Empty until the campaign issue lands.
"""
