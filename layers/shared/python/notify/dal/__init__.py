"""The table: one pynamodb base model, one subclass per entity, keys computed inside."""
