FROM python:3.11-slim
WORKDIR /srv/tradegraph
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
COPY seeds ./seeds
COPY schema ./schema
# Editable: the app finds migrations/, seeds/ and pyproject.toml beside its own source.
RUN pip install --no-cache-dir -e .
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["tradegraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
