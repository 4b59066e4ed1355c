"""One module per group of screens: each function makes one screen's answer from the services' answers
(`mercato.services.mobile_api.clients`), in as few calls as it can, side by side where they are
independent. No business rule here: prices, availability, what a cart may hold and what an order may
become are the services' answers, passed on trimmed."""
