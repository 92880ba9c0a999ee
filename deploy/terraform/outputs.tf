# What the chart's values need (docs/deployment.md, "Chart values from the Terraform outputs").

output "cluster_name" {
  description = "EKS cluster name: aws eks update-kubeconfig --name <this>."
  value       = module.eks.cluster_name
}

output "image_repository" {
  description = "ECR repository to push the image to: chart value image.repository."
  value       = aws_ecr_repository.merge_assist.repository_url
}

output "region" {
  description = "Region: chart value config.awsRegion."
  value       = var.region
}

output "pod_role_arn" {
  description = "IRSA role: chart value serviceAccount.annotations.\"eks.amazonaws.com/role-arn\"."
  value       = aws_iam_role.pods.arn
}

output "external_secrets_role_arn" {
  description = "IRSA role of the External Secrets Operator: its service account's eks.amazonaws.com/role-arn annotation."
  value       = aws_iam_role.external_secrets.arn
}

output "runtime_secret_name" {
  description = "Secrets Manager entry of the runtime Secret: chart value externalSecret.remoteKey."
  value       = aws_secretsmanager_secret.runtime.name
}

output "gitlab_bot_token_secret_name" {
  description = "Secrets Manager entry the bot's token goes into (secrets provider aws)."
  value       = aws_secretsmanager_secret.gitlab_bot_token.name
}

output "vpc_cidr" {
  description = "VPC range: chart values networkPolicy.dataCidrs and config.trustedProxies."
  value       = module.vpc.vpc_cidr_block
}

output "postgres_address" {
  description = "RDS PostgreSQL host (in the runtime secret's MERGE_ASSIST_DATABASE_URL)."
  value       = aws_db_instance.postgres.address
}

output "redis_address" {
  description = "ElastiCache primary endpoint (in the runtime secret's MERGE_ASSIST_REDIS_URL, TLS)."
  value       = aws_elasticache_replication_group.redis.primary_endpoint_address
}

output "chart_values" {
  description = "A values file for deploy/helm/merge-assist: terraform output -raw chart_values > aws-values.yaml"
  value = yamlencode({
    image = {
      repository = aws_ecr_repository.merge_assist.repository_url
    }
    config = {
      secretsProvider = "aws"
      awsRegion       = var.region
      trustedProxies  = module.vpc.vpc_cidr_block
    }
    externalSecret = {
      enabled   = true
      remoteKey = aws_secretsmanager_secret.runtime.name
    }
    serviceAccount = {
      name        = var.kubernetes_service_account
      annotations = { "eks.amazonaws.com/role-arn" = aws_iam_role.pods.arn }
    }
    networkPolicy = {
      dataCidrs = [module.vpc.vpc_cidr_block]
    }
  })
}
