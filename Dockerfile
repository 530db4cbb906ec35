# Safeground API image (used by docker-compose.yml; the test path never needs Docker).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api ./api
COPY migrations ./migrations
RUN pip install --no-cache-dir -e . \
 && useradd --system --home /app safeground
COPY web ./web
USER safeground
EXPOSE 8000
CMD ["sh", "-c", "safeground db wait && safeground db upgrade && safeground demo load --if-empty && safeground serve --host 0.0.0.0 --port 8000"]
