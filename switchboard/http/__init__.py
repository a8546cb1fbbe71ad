"""HTTP for both transports: authentication, the request log, body and rate limits, CORS, health, the uvicorn server; the GraphQL view and its GraphiQL page."""
