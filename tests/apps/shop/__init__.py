"""A shop catalogue: nested categories (self-FK), products with a status enum stored by name
and composite unique keys."""
