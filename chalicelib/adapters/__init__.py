"""Adapters at the edge: DynamoDB through PynamoDB, S3, SQS, SNS, SES, certificates, clock."""
