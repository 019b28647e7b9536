"""Use cases: what each handler asks for, composed from domain rules, the table and adapters."""
