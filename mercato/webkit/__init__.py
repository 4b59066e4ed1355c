"""What the two web front ends (the storefront and the admin app) share: signed CSRF tokens, the HTTP
client of the gateway, money formatting. Both are clients of the gateway only; neither imports a
service or the kernel, and this package imports neither either."""
