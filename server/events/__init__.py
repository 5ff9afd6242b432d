"""Trade-show events: configuration, qualification questions, products and members."""
