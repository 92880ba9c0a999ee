terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.6, < 4.0"
    }
  }

  # Keep the state remote and encrypted (it holds the generated database and Redis passwords):
  #   terraform init -backend-config="bucket=<state bucket>" -backend-config="key=merge-assist/terraform.tfstate" \
  #     -backend-config="region=<region>" -backend-config="use_lockfile=true" -backend-config="encrypt=true"
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      "app.kubernetes.io/part-of" = "merge-assist"
      environment                 = var.environment
    })
  }
}
