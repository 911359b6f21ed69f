"""Parts every feature shares: base table model, background workers, messages, appearance, shared widgets."""
