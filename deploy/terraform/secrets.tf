# Secrets Manager entries, encrypted with the install's KMS key:
#   merge-assist/<environment>/runtime — JSON of the chart's runtime Secret (database and Redis URLs
#     with their generated passwords, the product's secret key); the External Secrets Operator
#     copies it into Kubernetes (chart value externalSecret.remoteKey).
#   merge-assist/gitlab-bot-token — the bot's GitLab token, read by the pods themselves through
#     IRSA (secrets provider `aws`); its value is yours to put (docs/deployment.md).

resource "random_password" "secret_key" {
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "runtime" {
  # checkov:skip=CKV2_AWS_57:written by Terraform from the passwords it generates; rotate by tainting random_password.* and re-applying (docs/deployment.md)
  name        = "merge-assist/${var.environment}/runtime"
  description = "Merge Assist ${var.environment}: MERGE_ASSIST_DATABASE_URL, MERGE_ASSIST_REDIS_URL, MERGE_ASSIST_SECRET_KEY"
  kms_key_id  = aws_kms_key.data.arn
}

resource "aws_secretsmanager_secret_version" "runtime" {
  secret_id = aws_secretsmanager_secret.runtime.id
  secret_string = jsonencode({
    MERGE_ASSIST_DATABASE_URL = format(
      "postgresql+asyncpg://%s:%s@%s:%d/%s?ssl=require",
      aws_db_instance.postgres.username, random_password.postgres.result,
      aws_db_instance.postgres.address, aws_db_instance.postgres.port, aws_db_instance.postgres.db_name,
    )
    MERGE_ASSIST_REDIS_URL = format(
      "rediss://:%s@%s:%d/0",
      random_password.redis.result,
      aws_elasticache_replication_group.redis.primary_endpoint_address,
      aws_elasticache_replication_group.redis.port,
    )
    MERGE_ASSIST_SECRET_KEY = random_password.secret_key.result
  })
}

# The product's own secret store (MERGE_ASSIST_SECRETS_PROVIDER=aws reads merge-assist/<name>).
resource "aws_secretsmanager_secret" "gitlab_bot_token" {
  # checkov:skip=CKV2_AWS_57:a GitLab token is rotated in GitLab (no rotation Lambda can make one); the product warns before it expires
  name        = "merge-assist/gitlab-bot-token"
  description = "Merge Assist: the GitLab bot's token (put the value with aws secretsmanager put-secret-value)"
  kms_key_id  = aws_kms_key.data.arn
}
