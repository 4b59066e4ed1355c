"""The web storefront: server-rendered pages for shoppers, a client of the API gateway and nothing else."""
