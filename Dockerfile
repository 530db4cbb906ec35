# Safeground API image (used by docker-compose.yml; the test path never needs Docker).
# It installs the wheel: the package with its migrations and web map as package data.

# The web map's libraries from the npm registry, pinned by web/package-lock.json.
FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# The wheel (api/_migrations and api/_web link to migrations/ and web/).
FROM python:3.11-slim-bookworm AS wheel
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY api ./api
COPY migrations ./migrations
COPY web ./web
COPY --from=web /src/web/node_modules ./web/node_modules
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=wheel /dist /dist
RUN pip install --no-cache-dir /dist/safeground-*.whl \
 && rm -rf /dist \
 && useradd --system --create-home --home-dir /app safeground
USER safeground
WORKDIR /app
EXPOSE 8000
# wait for the database, migrate, load the demo only with SAFEGROUND_DEMO=1 (never in
# prod), serve
CMD ["safeground", "start", "--host", "0.0.0.0", "--port", "8000"]
