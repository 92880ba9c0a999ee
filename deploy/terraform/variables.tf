variable "region" {
  description = "AWS region of every resource (e.g. eu-central-1)."
  type        = string
  default     = "eu-central-1"
}

variable "environment" {
  description = "A short name of this installation (production, staging); prefixes every name."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.environment))
    error_message = "environment: lower-case letters, digits and '-', 2 to 21 characters."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "vpc_cidr" {
  description = "Address range of the VPC; split into public, private (nodes), database and cache subnets over three availability zones."
  type        = string
  default     = "10.0.0.0/16"
}

variable "kubernetes_version" {
  description = "EKS control plane version (the chart needs 1.28 or newer)."
  type        = string
  default     = "1.33"
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "Addresses that may reach the EKS API from the internet; empty keeps the endpoint private (reach it from inside the VPC or through a VPN)."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "EC2 instance types of the managed node group."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_min_size" {
  description = "Fewest nodes of the node group."
  type        = number
  default     = 2
}

variable "node_max_size" {
  description = "Most nodes of the node group."
  type        = number
  default     = 6
}

variable "node_desired_size" {
  description = "Nodes started with the node group (later managed by the cluster autoscaler or by hand)."
  type        = number
  default     = 3
}

variable "db_instance_class" {
  description = "RDS instance class of PostgreSQL."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_engine_version" {
  description = "PostgreSQL major version on RDS."
  type        = string
  default     = "17"
}

variable "db_allocated_storage_gb" {
  description = "Initial storage of the database in GiB (grows by itself up to db_max_allocated_storage_gb)."
  type        = number
  default     = 50
}

variable "db_max_allocated_storage_gb" {
  description = "Upper bound of storage autoscaling in GiB."
  type        = number
  default     = 500
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery)."
  type        = number
  default     = 14
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database (turn off only to tear down a trial)."
  type        = bool
  default     = true
}

variable "redis_node_type" {
  description = "ElastiCache node type of Redis."
  type        = string
  default     = "cache.t4g.small"
}

variable "redis_engine_version" {
  description = "Redis OSS engine version on ElastiCache."
  type        = string
  default     = "7.1"
}

variable "kubernetes_namespace" {
  description = "Namespace the chart is installed in (the IRSA role trusts its service account only)."
  type        = string
  default     = "merge-assist"
}

variable "kubernetes_service_account" {
  description = "Name of the chart's ServiceAccount (the chart's default is <release>-merge-assist)."
  type        = string
  default     = "merge-assist"
}

variable "external_secrets_namespace" {
  description = "Namespace of the External Secrets Operator (its IRSA role trusts its service account only)."
  type        = string
  default     = "external-secrets"
}

variable "external_secrets_service_account" {
  description = "Service account of the External Secrets Operator (the Helm chart's default is external-secrets)."
  type        = string
  default     = "external-secrets"
}
